"""Batch prediction: Vertex AI's batchPredictionJobs over our model registry."""
