"""By hand, not in CI: our checkpoint reader and exporter against
transformers itself (PyTorch), for the four architectures.

    python -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install torch transformers
    .venv/bin/python tests/by_hand/check_with_transformers.py --torch_python /tmp/venv-torch/bin/python

Direction 1 (issue 21): transformers makes a random tiny `*ForMaskedLM`
(`save_pretrained`, safetensors) with the shipped vocabulary's tokenizer
files; `TokenDropMaskedLM.from_preset` loads it; masked-LM logits and token
ids are compared. Direction 2 (issue 22): our tiny model (random weights,
scaled up so that activations and epsilons matter) is exported;
`AutoModelForMaskedLM.from_pretrained(export/hf)` loads it (missing and
unexpected keys printed), logits and `AutoTokenizer` ids are compared, and
`AutoModelForSequenceClassification` loads it. Prints the largest
differences.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

TEXTS = [
    "Café naïve RÉSUMÉ: in 1851, 3.14 whales — Ishmael's qwzxv 🐳 鯨 sea-going!",
    "Call me Ishmael. Some years ago—never mind how long precisely—having little money",
    "Zürich “quotes” and unknownwordxyz 1234567 ½ ø",
    "and 'tis the season, said he; 'twas I'd've",  # GPT-2's regex after a space
]
ARCHITECTURES = ("bert", "roberta", "xlm_roberta", "distil_bert")


def transformers_side(task_path):
    """Runs in the PyTorch environment: reads a task JSON, writes results."""
    import torch
    import transformers

    with open(task_path) as file:
        task = json.load(file)
    results = {}
    for item in task["items"]:
        folder = item["folder"]
        if item["make"]:  # direction 1: a random model by transformers
            config_class = {
                "bert": transformers.BertConfig,
                "roberta": transformers.RobertaConfig,
                "xlm_roberta": transformers.XLMRobertaConfig,
                "distil_bert": transformers.DistilBertConfig,
            }[item["architecture"]]
            config = config_class(**item["config"])
            model_class = getattr(transformers, item["class"])
            torch.manual_seed(0)
            model = model_class(config)
            with torch.no_grad():  # larger than the 0.02 init, so numbers matter
                for name, parameter in model.named_parameters():
                    if "LayerNorm" in name or "layer_norm" in name:
                        parameter.add_(torch.randn_like(parameter) * 0.2)
                    else:
                        parameter.normal_(0.0, 0.3)
            model.save_pretrained(folder)
        model, info = transformers.AutoModelForMaskedLM.from_pretrained(
            folder, output_loading_info=True
        )
        model.eval()
        ids = torch.tensor(item["token_ids"])
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
        classifier = transformers.AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=2
        )
        results[folder] = {
            "logits": logits.numpy().tolist(),
            "missing": sorted(info["missing_keys"]),
            "unexpected": sorted(info["unexpected_keys"]),
            "ids": [tokenizer(text, add_special_tokens=False)["input_ids"] for text in TEXTS],
            "tokenizer": type(tokenizer).__name__,
            "classifier": type(classifier).__name__,
        }
    with open(task["output"], "w") as file:
        json.dump(results, file)


def small_config(architecture, vocab_size, pad_token_id):
    if architecture == "distil_bert":
        return dict(vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2,
                    hidden_dim=64, max_position_embeddings=64,
                    pad_token_id=pad_token_id, activation="gelu")
    config = dict(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                  num_attention_heads=2, intermediate_size=64,
                  max_position_embeddings=66, pad_token_id=pad_token_id,
                  hidden_act="gelu", layer_norm_eps=1e-5 if architecture != "bert" else 1e-12)
    if architecture != "bert":
        config.update(type_vocab_size=1, bos_token_id=0, eos_token_id=2)
    return config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--torch_python", default="/tmp/venv-torch/bin/python")
    parser.add_argument("--side", default="ours")
    parser.add_argument("--task", default=None)
    args = parser.parse_args()
    if args.side == "transformers":
        return transformers_side(args.task)

    import tokdrop_keras
    from tokdrop_keras.export import export_pretrained

    work = tempfile.mkdtemp()
    items, ours = [], {}
    for architecture in ARCHITECTURES:
        tokenizer = tokdrop_keras.load_tokenizer(architecture)
        ids = [int(i) for i in np.asarray(tokenizer([TEXTS[1]])[0])][:14]
        start, end = tokenizer.start_token_id, tokenizer.end_token_id
        token_ids = [[start] + ids + [tokenizer.mask_token_id, end]]

        # Direction 2: our model, exported.
        backbone = tokdrop_keras.models.backbone_for_size(
            "nano", vocabulary_size=tokenizer.vocabulary_size(),
            max_sequence_length=32, num_layers=2, hidden_dim=32,
            intermediate_dim=64, architecture=architecture, dropout=0.0,
        )
        model = tokdrop_keras.TokenDropMaskedLM(
            backbone, **tokdrop_keras.special_token_ids(tokenizer)
        )
        rng = np.random.default_rng(0)
        for weight in model.backbone.weights + model.masked_lm_head.weights:
            value = np.asarray(weight)
            if "gamma" in weight.path or "beta" in weight.path:
                weight.assign(value + rng.normal(0, 0.2, value.shape).astype("float32"))
            else:
                weight.assign(rng.normal(0, 0.3, value.shape).astype("float32"))
        export_dir = os.path.join(work, f"export_{architecture}")
        export_pretrained(model, tokenizer, export_dir, sequence_length=32, saved_model=False)
        hf = os.path.join(export_dir, "hf")
        ours[hf] = (model, tokenizer, token_ids, architecture)
        items.append(dict(folder=hf, make=False, token_ids=token_ids, architecture=architecture))

        # Direction 1: a model transformers makes, with our tokenizer files.
        folder = os.path.join(work, f"transformers_{architecture}")
        os.makedirs(folder)
        for name in os.listdir(hf):
            if name not in ("config.json", "model.safetensors"):
                with open(os.path.join(hf, name), "rb") as src, open(os.path.join(folder, name), "wb") as dst:
                    dst.write(src.read())
        items.append(dict(
            folder=folder, make=True, token_ids=token_ids, architecture=architecture,
            config=small_config(architecture, tokenizer.vocabulary_size(), tokenizer.pad_token_id),
            **{"class": {"bert": "BertForMaskedLM", "roberta": "RobertaForMaskedLM",
                         "xlm_roberta": "XLMRobertaForMaskedLM",
                         "distil_bert": "DistilBertForMaskedLM"}[architecture]},
        ))
    task_path = os.path.join(work, "task.json")
    output = os.path.join(work, "results.json")
    with open(task_path, "w") as file:
        json.dump({"items": items, "output": output}, file)
    subprocess.run(
        [args.torch_python, __file__, "--side", "transformers", "--task", task_path],
        check=True,
    )
    with open(output) as file:
        results = json.load(file)

    for item in items:
        folder, architecture = item["folder"], item["architecture"]
        result = results[folder]
        if item["make"]:
            model, tokenizer = tokdrop_keras.TokenDropMaskedLM.from_preset_with_tokenizer(folder)
            direction = "transformers -> from_preset"
        else:
            model, tokenizer = ours[folder][:2]
            tokenizer = tokdrop_keras.load_tokenizer(folder)
            direction = "export hf/ -> transformers"
        token_ids = np.array(item["token_ids"], "int32")
        x = {"token_ids": token_ids, "padding_mask": np.ones_like(token_ids),
             "mask_positions": np.arange(token_ids.shape[1], dtype="int32")[None]}
        if architecture == "bert":
            x["segment_ids"] = np.zeros_like(token_ids)
        logits = np.asarray(model(x))
        theirs = np.array(result["logits"])
        difference = np.abs(logits - theirs).max()
        id_matches = [
            [int(i) for i in np.asarray(tokenizer([text])[0])] == expected
            for text, expected in zip(TEXTS, result["ids"])
        ]
        print(
            f"{architecture:12s} {direction:28s} max |logit diff| {difference:.2e} "
            f"(logits up to {np.abs(theirs).max():.1f}); ids equal on "
            f"{sum(id_matches)}/{len(TEXTS)} texts ({result['tokenizer']}); "
            f"missing {result['missing']} unexpected {result['unexpected']}; "
            f"{result['classifier']} loads"
        )
        for ok, text, expected in zip(id_matches, TEXTS, result["ids"]):
            if not ok:
                print("   differs on:", text)
                print("     ours  ", [int(i) for i in np.asarray(tokenizer([text])[0])])
                print("     theirs", expected)


if __name__ == "__main__":
    sys.exit(main())
