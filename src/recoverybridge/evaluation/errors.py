class EvaluationError(ValueError):
    """Bad input to an analysis: the message names the column or parameter and what is wrong."""
