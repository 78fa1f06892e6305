import { ContainerModule } from 'inversify';
import { CheckDefinitionToken } from '../core/check/check.js';
import { amazonApiGatewayCheck } from './amazon_api_gateway/amazon-api-gateway.js';
import { amazonLambdaCheck } from './amazon_lambda/amazon-lambda.js';
import { amazonRekognitionCheck } from './amazon_rekognition/amazon-rekognition.js';

/**
 * Every integration dogwatch ships. Adding one = a folder in checks/ and one bind line here.
 */
export const builtinChecksModule = new ContainerModule(({ bind }) => {
  bind(CheckDefinitionToken).toConstantValue(amazonLambdaCheck);
  bind(CheckDefinitionToken).toConstantValue(amazonApiGatewayCheck);
  bind(CheckDefinitionToken).toConstantValue(amazonRekognitionCheck);
});
