"""The cascade router's classifier: which serving tier (cheapest first) should answer a request.

One module per job: ``dataset`` (the training set's line contract), ``config`` (tiers, costs, the gate's
thresholds), ``labels`` (the tier each observed trace teaches), ``model`` (features and the scikit-learn
pipeline), ``evaluate`` (routing metrics and the gate), ``train`` (the job), ``serve`` (the SageMaker
inference server). ``dataset``, ``config``, ``labels`` and ``evaluate`` import only the standard library.
"""
