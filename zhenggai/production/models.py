"""Production: furnaces, heats, records, competition and targets."""
