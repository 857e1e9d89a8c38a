"""The predictor study: specs and presets, seeded splits, metrics, the grid runner and its report,
and :class:`~nasbench_tools.study.experiment.PredictorStudy`, the study as an experiment of the
shared contract (``nasbench-study study run|report|presets|config``).

Submodules are imported on use (``nasbench_tools.study.runner``, ``.spec``, ``.report``,
``.experiment``), so that importing the package does not pull in the report's plotting library.
"""
