"""Neural-network predictors (torch), one module each so importing one stays cheap:

``mlp.MLPLarge`` (mlp_large), ``mlp.MLPSmall`` (mlp_small), ``bananas.Bananas`` (bananas),
``gcn.GCN`` (gcn), ``bonas.Bonas`` (bonas), ``nao.NAO`` (nao) and
``bohamiann.Bohamiann`` (bohamiann).  ``_common`` holds their shared seeding, batching and
state machinery.
"""
