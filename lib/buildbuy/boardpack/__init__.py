"""Board pack: the memo as a one-page PDF and the decision as a slide deck."""
