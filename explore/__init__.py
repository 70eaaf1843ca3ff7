"""The explore suite: random order flows against a live target, checked against a model.

A Hypothesis rule-based state machine registers customers, edits carts, checks out (and
retries), cancels, changes prices and stock of products it created itself, and turns fault
flags and the gateways' fault knobs on and off; after every step a model of money and stock
must agree with what the target answers and with what the gateways recorded.
"""
