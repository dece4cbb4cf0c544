"""The decisions calendar (Entscheidungskalender): upcoming decisions of the state government,
parliament and party, the topics members follow, and where members discuss each decision."""
