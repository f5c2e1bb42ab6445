"""Modelling toolkit shared by the baselines, training and evaluation stages."""
