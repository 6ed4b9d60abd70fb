"""Liquid neural networks (NCP wirings, CfC and LTC cells), the policy and its checkpoint format.

Modules: ``wiring`` (graphs and presets), ``cfc`` / ``ltc`` (wired cells), ``sequence``
(``LiquidRNN``), ``fast`` (``NumpyCfCStep`` for batch-1 control loops), ``cores`` (the core
registry), ``policy`` (``Policy``, ``PolicyConfig``), ``checkpoint`` (``save_checkpoint``,
``load_checkpoint``), ``demo`` (``lnn-control demo``). See docs/models.md.
"""
