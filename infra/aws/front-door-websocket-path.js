// A CloudFront Function (runtime cloudfront-js-2.0) on the front door's /api/v4/websocket
// behaviour, run on every viewer request there. API Gateway's WebSocket APIs answer only on their
// stage's path (any path below it is refused with 403), while Mattermost's clients open
// /api/v4/websocket on the API's origin: the path is rewritten to the stage's. The query string
// (a reconnecting client's connection_id and sequence_number) is kept. infra/aws/front-door.cjs
// puts the stage's name in place of STAGE_PATH.
function handler(event) {
  var request = event.request;
  request.uri = 'STAGE_PATH';
  return request;
}
