"""The Document AI service: Document AI v1's REST surface (processors, `process`,
`batchProcess`, operations) and the document -> text workflow."""
