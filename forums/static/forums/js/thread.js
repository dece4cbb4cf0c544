// Placeholder: the live thread client is written separately and replaces this file.
