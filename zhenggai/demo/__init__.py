"""The demo: the Anshan replay, the First Steel Plant's January 1958 built again through the
same actions a plant's people use. Not a domain: nothing outside the demo and the CLI imports
it. `replay` builds the opinions, problems and review round; `production` the furnaces and
their heat log; `texts` the opinions' wording."""
