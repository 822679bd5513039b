/**
 * The port `Check eligibility` reads the cooldown rule from. Implemented on the DynamoDB GPU ledger
 * (lambdas/pipeline/budget/dynamodb-ledger.ts, `DynamoDbLedger`) in AWS and by the local ledger locally.
 */
export interface TrainingHistory {
  /**
   * When this target model was last trained: the end of its most recent training job that succeeded
   * (Batch job SUCCEEDED), whatever the eval gate later decided, since those GPU-hours trained it.
   * A job that failed trained nothing and does not start the cooldown. `undefined` when the model has
   * never been trained in this stage.
   */
  lastTrainedAt(targetModelId: string): Promise<Date | undefined>;
}
