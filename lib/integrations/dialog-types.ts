/**
 * Mattermost's interactive dialog model (`model/integration_action.go` `Dialog`, `DialogElement`),
 * as JSON. Types only, with no imports, so that the web app (which renders dialogs) and the server
 * (which validates them, lib/integrations/dialog.ts) share one declaration.
 */
export interface DialogOption {
  text: string;
  value: string;
}

export interface DialogElement {
  display_name?: string;
  name?: string;
  type?: string;
  subtype?: string;
  default?: string;
  placeholder?: string;
  help_text?: string;
  optional?: boolean;
  min_length?: number;
  max_length?: number;
  data_source?: string;
  data_source_url?: string;
  options?: Array<DialogOption | null> | null;
  multiselect?: boolean;
  min_date?: string;
  max_date?: string;
  time_interval?: number;
}

export interface Dialog {
  callback_id?: string;
  title?: string;
  introduction_text?: string;
  icon_url?: string;
  elements?: DialogElement[] | null;
  submit_label?: string;
  notify_on_cancel?: boolean;
  state?: string;
}
