"""Arms of the study at one seed: does importance matter?

Pretrains (12 layers by default), exports, fine-tunes on the sentiment and
adjacent-sentences tasks, and writes ARM/seedN/result.json under
--output_dir for each of --arms; `experiments/ablation_report.py`
tabulates and plots every result written so far, and
`experiments/ablation.sh` runs a queue of them on two cores.

    python experiments/ablation.py --arms random --seed 1
    python experiments/ablation.py --arms importance --steps 8 --evaluations 2 \\
        --size nano --num_layers 4 --seq_length 32 --finetune_steps 2  # smoke

Every flag is a field of `study.StudyConfig`; the run is `study.run_arms`.
"""

import study
from tokdrop_keras.training.flags import run_script


def main(argv=None):
    run_script(study.run_arms, study.StudyConfig, argv, __doc__)


if __name__ == "__main__":
    main()
