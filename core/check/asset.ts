/**
 * Out-of-the-box dashboards and monitors (`dogwatch assets`), in the JSON of Datadog's public
 * Dashboards and Monitors APIs (v1). Integrations describe theirs in their own folder; core names
 * them, marks them as dogwatch's and installs them.
 */

export interface AssetOptions {
  /**
   * The Agent `namespace` instance option: an instance with `namespace: foo` sends `foo.aws.lambda.…`,
   * so its assets must query those names. Undefined: the names in metadata.csv.
   */
  readonly namespace?: string;
}

export interface TemplateVariableJson {
  readonly name: string;
  readonly prefix: string;
  readonly available_values: readonly string[];
  readonly default: string;
}

export interface WidgetLayoutJson {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A widget definition; its fields depend on `type` (the builders in dashboard-builder.ts write them). */
export interface WidgetDefinitionJson {
  readonly type: string;
  readonly title?: string;
  readonly [field: string]: unknown;
}

export interface WidgetJson {
  readonly definition: WidgetDefinitionJson;
  readonly layout: WidgetLayoutJson;
}

export interface DashboardJson {
  readonly title: string;
  readonly description: string;
  readonly layout_type: 'ordered';
  readonly reflow_type: 'fixed';
  readonly template_variables: readonly TemplateVariableJson[];
  readonly widgets: readonly WidgetJson[];
}

export interface MonitorThresholdsJson {
  readonly critical: number;
  readonly warning?: number;
}

export interface MonitorOptionsJson {
  readonly thresholds: MonitorThresholdsJson;
  readonly notify_no_data: boolean;
  readonly no_data_timeframe?: number;
  readonly require_full_window: boolean;
  readonly evaluation_delay: number;
  readonly new_group_delay: number;
  readonly include_tags: boolean;
  readonly renotify_interval: number;
}

export interface MonitorJson {
  readonly name: string;
  readonly type: 'query alert';
  readonly query: string;
  readonly message: string;
  readonly tags: readonly string[];
  readonly options: MonitorOptionsJson;
}

/**
 * An asset as its owner describes it. `stem` names it within the owner and kind (`overview`,
 * `high_error_rate`); core adds the owner, the namespace and the marks that identify it in Datadog.
 */
export type AssetDraft =
  | { readonly kind: 'dashboard'; readonly stem: string; readonly body: DashboardJson }
  | { readonly kind: 'monitor'; readonly stem: string; readonly body: MonitorJson };

interface AssetIdentity {
  /**
   * `<owner>/<kind>s/<stem>`, e.g. `amazon_lambda/dashboards/overview`: the `dogwatch assets print`
   * name and the committed file `checks/<owner>/assets/<kind>s/<stem>.json`. Stable: tools rely on it.
   */
  readonly name: string;
  /** Identifies the asset in a Datadog organisation: the name, prefixed `<namespace>:` when namespaced. */
  readonly key: string;
  readonly namespace?: string;
  readonly title: string;
}

export type Asset =
  | (AssetIdentity & { readonly kind: 'dashboard'; readonly body: DashboardJson })
  | (AssetIdentity & { readonly kind: 'monitor'; readonly body: MonitorJson });
