"""One arm and seed of the ablation: does importance matter?

Pretrains (12 layers by default), exports, fine-tunes on the sentiment and
adjacent-sentences tasks, and writes ARM/seedN/result.json under
--output_dir; `experiments/ablation_report.py` tabulates and plots every
result written so far, and `experiments/ablation.sh` runs the queue on two
cores.

    python experiments/ablation.py --arm random --seed 1
    python experiments/ablation.py --arm importance --steps 8 --evaluations 2 \\
        --size nano --num_layers 4 --seq_length 32 --finetune_steps 2  # smoke

Every flag is a field of `tokdrop_keras.AblationConfig`; the run is
`tokdrop_keras.run_ablation(config)`.
"""

import tokdrop_keras
from tokdrop_keras.training.flags import run_script


def main(argv=None):
    run_script(tokdrop_keras.run_ablation, tokdrop_keras.AblationConfig, argv, __doc__)


if __name__ == "__main__":
    main()
