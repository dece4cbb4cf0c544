"""The coalition agreement tracker: commitments, their assessments (history) and their threads."""
