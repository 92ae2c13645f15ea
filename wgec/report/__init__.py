"""What the notebooks call: words, safe Markdown, charts, and the report's facts and sentences from the tables."""
