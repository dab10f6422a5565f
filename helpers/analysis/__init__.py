"""Analysis of what the models learned; estimators follow scikit-learn's conventions."""
