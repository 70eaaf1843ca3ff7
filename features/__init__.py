"""The acceptance suite: Gherkin specs run with pytest-bdd against any Target over HTTP."""
