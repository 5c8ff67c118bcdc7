"""Token dropping for BERT pretraining on keras-hub."""

import setuptools

setuptools.setup(
    name="tokdrop_keras",
    version="0.1.0",
    description=(
        "Token dropping (Hou et al., ACL 2022) for BERT pretraining with "
        "Keras 3 and keras-hub."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11,<3.12",
    packages=setuptools.find_packages(include=["tokdrop_keras*"]),
    include_package_data=True,
    package_data={
        "tokdrop_keras": [
            "data/assets/*.md",
            "data/assets/*.txt",
            "data/assets/byte_pair/*",
            "data/assets/sentencepiece/*",
            "data/assets/pretrain/*.txt.gz",
            "data/assets/sentiment/*.tsv",
        ]
    },
    install_requires=[
        "tensorflow==2.21.0",
        "keras==3.15.1",
        "keras-hub==0.32.0",
        "tensorflow-text==2.21.1",
        # Hugging Face checkpoints in (from_preset) and out (export hf/).
        "safetensors==0.8.0",
        "tensorflow-datasets==4.9.10",
        # TFDS 4.9.10 imports it to prepare any dataset, but only declares
        # it for Python < 3.9.
        "importlib_resources==7.1.0",
        # TensorBoard logs of experiments/pretrain.py.
        "tensorboard==2.21.0",
        # The input pipeline without TensorFlow (data_pipeline="grain").
        "grain==0.2.18",
        "tokenizers==0.23.3",
        "sentencepiece==0.2.3",
    ],
    extras_require={
        # Keras' JAX backend (KERAS_BACKEND=jax); on GPUs install the
        # matching jax[cuda12] instead.
        "jax": ["jax[cpu]==0.10.2"],
        # The study's plots (experiments/study: make demo, the ablation).
        "experiments": ["matplotlib==3.11.2"],
        # The notebook test executes colab/*.ipynb with nbclient; the
        # backend-agreement and JAX pretraining tests run JAX subprocesses.
        "test": [
            "jax[cpu]==0.10.2",
            "matplotlib==3.11.2",
            # 9.0: pytest 9.2 builds node ids in a way pytest-xdist 3.8's
            # `--dist loadgroup` cannot suffix, so its groups were ignored
            # and module fixtures (JAX runs) were built once per worker.
            "pytest==9.0.3",
            # The suite runs on both cores (`pytest -n 2`): TF's kernels on
            # these tiny models leave the second core mostly idle.
            "pytest-xdist==3.8.0",
            "execnet==2.1.2",
            "nbclient==0.11.0",
            "nbformat==5.11.1",
            "ipykernel==7.4.0",
        ]
    },
    license="Apache-2.0",
)
