"""The predictor study: specs and presets, seeded splits, metrics, the grid runner and its report.

Submodules are imported on use (``nasbench_tools.study.runner``, ``.spec``, ``.report``), so that
importing the package does not pull in the report's plotting library.
"""
