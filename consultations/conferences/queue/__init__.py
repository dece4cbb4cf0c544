"""The speaker queue (Redeliste): one list per agenda item for the hall and home."""
