/**
 * Builds the web app before serverless-esbuild packages the functions, so the webApp function's
 * zip always carries the current web/dist (its `package.patterns` in serverless.yml). Listed before
 * serverless-esbuild in serverless.yml, so its hook runs first.
 */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

class WebAppBuild {
  constructor(serverless) {
    const root = serverless.serviceDir ?? serverless.config.servicePath;
    const build = () => {
      execFileSync(path.join(root, 'node_modules/.bin/tsx'), [path.join(root, 'infra/web/build.ts')], { cwd: root, stdio: 'inherit' });
    };
    this.hooks = {
      'before:package:createDeploymentArtifacts': build,
      'before:deploy:function:packageFunction': build,
    };
  }
}

module.exports = WebAppBuild;
