"""Neural-network predictors (torch): MLPs, BANANAS, GCN, BONAS, NAO and BOHAMIANN."""
