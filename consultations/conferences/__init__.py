"""Base conferences (Basiskonferenzen): agenda, speaker queue, live polls, registrations and the
coalition agreement tracker. Uses ``forums`` and ``deliberation``; never another format's models."""
