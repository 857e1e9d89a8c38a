"""Monte-Carlo simulation of predictor-guided Pareto selection."""
