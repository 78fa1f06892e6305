import { z } from 'zod';
import { MetricCatalog } from '../../core/assets/metric-catalog.js';
import type { CheckDefinition } from '../../core/check/check.js';
import { cloudWatchCheckClass } from '../../core/cloudwatch/cloudwatch-check.js';
import { cloudWatchInstanceShape } from '../../core/cloudwatch/engine-options.js';
import type { CloudWatchIntegration } from '../../core/cloudwatch/integration.js';
import { loadMetricTable } from '../../core/cloudwatch/metric-table.js';
import { dimensionValue } from '../../core/cloudwatch/series.js';
import { packageFile } from '../../core/package-root.js';
import { REKOGNITION_SCOPE_TAGS, rekognitionAssets } from './assets.js';

/** Rekognition publishes per Operation; there is no taggable resource. */
export const rekognitionIntegration: CloudWatchIntegration = {
  namespace: 'AWS/Rekognition',
  metrics: loadMetricTable(packageFile('checks', 'amazon_rekognition', 'metadata.csv')),
  scopes: [{ scope: 'operation', dimensions: ['Operation'] }],
  resourceName: (series) => dimensionValue(series, 'Operation'),
};

export const amazonRekognitionCheck: CheckDefinition = {
  name: 'amazon_rekognition',
  description: 'Amazon Rekognition metrics from CloudWatch, per operation',
  exampleNotes: [
    'Logs: Rekognition has no log group of its own, so this check has no collect_logs option. Its API calls ' +
      'are in CloudTrail; the logs of the Lambda functions or API stages that call it come with collect_logs ' +
      'on amazon_lambda and amazon_api_gateway.',
  ],
  instanceSchema: z.object({ ...cloudWatchInstanceShape }),
  initConfigSchema: z.object({}),
  defaultMinCollectionInterval: 60,
  checkClass: cloudWatchCheckClass(rekognitionIntegration),
  assets: (options) =>
    rekognitionAssets(
      MetricCatalog.fromMetricTable(rekognitionIntegration.metrics, REKOGNITION_SCOPE_TAGS, options),
    ),
};
