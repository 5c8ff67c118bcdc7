"""The study of docs/results.md: does token dropping pay, and does importance
matter? Research tooling, not the library: `import study` from `experiments/`.

One harness for every comparison: `StudyConfig` names the arms (baseline,
importance, random, mixed, sctd, importance_equal_time), the seed and the
sizes; `run_arms` pretrains, exports and fine-tunes each arm into
`ARM/seedN/result.json`; `write_report` tabulates and plots every result
written so far. `make demo` is its one-seed, two-arm case (`DemoConfig`,
`run_study`).
"""

from study.config import ARMS
from study.config import TASKS
from study.config import DemoConfig
from study.config import StudyConfig
from study.report import write_report
from study.run import run_arm
from study.run import run_arms
from study.run import run_study
from study.tables import load_results
