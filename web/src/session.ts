/**
 * The personal access token, kept for this tab only: sessionStorage survives a reload but not the
 * tab, and is never shared with other tabs. Signing out forgets it. It never goes into a URL.
 */
const KEY = 'hookline.token';

export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function keepToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
