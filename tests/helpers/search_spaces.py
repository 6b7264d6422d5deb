"""Search spaces shared by the model-selection tests (TOML text, as a user writes it)."""

#: The smallest real search: two grid points on digits, two epochs each.
TWO_TRIAL_GRID = """
[search]
kind = "grid"
seed = 0
epochs = 2
[base]
data = "digits"
hidden = [8]
[space]
lr = [0.05, 0.1]
"""
