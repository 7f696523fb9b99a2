/** Go's `url.QueryEscape`: only letters, digits and `-_.~` stay; spaces become `+`. */
export function goQueryEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Go's `url.Values.Encode`: keys sorted, each value of a key in order. */
export function encodeGoForm(fields: Record<string, string | string[]>): string {
  return Object.keys(fields)
    .sort()
    .flatMap((key) => {
      const values = fields[key]!;
      return (Array.isArray(values) ? values : [values]).map((value) => `${goQueryEscape(key)}=${goQueryEscape(value)}`);
    })
    .join('&');
}
