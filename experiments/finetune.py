"""Fine-tunes an exported BERT as a keras-hub `BertTextClassifier`.

    python experiments/finetune.py --export_dir exports/mini
    python experiments/finetune.py --export_dir exports/mini --task glue/sst2
    python experiments/finetune.py --export_dir exports/mini --encoder saved_model

`--export_dir` is the folder `pretrain.py --export_dir` wrote (or its
`preset/` or `saved_model/` folder). The encoder comes from the keras-hub
preset (default) or from the TF SavedModel (`--encoder saved_model`; the
tokenizer then comes from the export's preset, or from `--vocabulary` for a
bare SavedModel). The default task is the embedded sentiment set; a GLUE
task comes from TFDS by name. Stops early on the dev set and prints dev and
test accuracy (GLUE test labels are hidden: dev only). Every flag is a field
of `tokdrop_keras.FinetuneConfig`; the run is `tokdrop_keras.finetune(config)`.
"""

import json

import tokdrop_keras
from tokdrop_keras.training.flags import run_script


def main(argv=None):
    _, result = run_script(
        tokdrop_keras.finetune, tokdrop_keras.FinetuneConfig, argv, __doc__
    )
    print(json.dumps(result.summary, indent=2))


if __name__ == "__main__":
    main()
