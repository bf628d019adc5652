"""The small ConvNet's names, layout and forward pass, and checkpoints both ways."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from csn_torch import checkpoint
from csn_torch.config import TrainingConfig
from csn_torch.errors import CSNTorchError
from csn_torch.model import CSNModel, ConvNet, disjoint_masks
from csn_torch.rng import SeededGenerator


def test_names_and_shapes_are_csns() -> None:
    model = CSNModel(TrainingConfig(model="csn-learned"), 32, 1, 4)
    shapes = {name: list(p.shape) for name, p in model.store_order()}
    assert sorted(shapes) == sorted(name for name, _ in model.named_parameters())
    assert list(shapes) == ["net0.conv0.weight", "net0.bn0.weight", "net0.bn0.bias", "net0.conv1.weight",
                            "net0.bn1.weight", "net0.bn1.bias", "net0.conv2.weight", "net0.bn2.weight",
                            "net0.bn2.bias", "net0.fc.weight", "net0.fc.bias", "masks"]
    assert shapes["net0.conv1.weight"] == [64, 32, 3, 3] and shapes["net0.fc.weight"] == [64, 2048]
    assert sorted(model.running_statistics()) == sorted(
        f"net0.bn{s}.running_{k}" for s in range(3) for k in ("mean", "var"))
    task = CSNModel(TrainingConfig(model="task-specific", widths=[4, 8]), 16, 1, 3)
    assert {n.split(".")[0] for n, _ in task.named_parameters()} == {"net0", "net1", "net2"}


def test_forward_is_csns_stage_by_stage() -> None:
    net = ConvNet(8, 1, [3, 5], 4)
    net.initialize_like_csn(SeededGenerator(2))
    with torch.no_grad():
        for bn in (net.bn0, net.bn1):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    net.eval()
    x = torch.rand(2, 1, 8, 8)
    # By hand: conv (padding 1, no bias), (x - mean) / sqrt(var + 1e-5) * gamma + beta, ReLU, 2x2 max,
    # flatten in NCHW order, linear.
    h = x
    for conv, bn in ((net.conv0, net.bn0), (net.conv1, net.bn1)):
        h = torch.nn.functional.conv2d(h, conv.weight, padding=1)
        h = (h - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + 1e-5)
        h = torch.relu(h * bn.weight[:, None, None] + bn.bias[:, None, None])
        h = h.reshape(2, h.shape[1], h.shape[2] // 2, 2, h.shape[3] // 2, 2).amax(dim=(3, 5))
    expected = h.reshape(2, -1) @ net.fc.weight.T + net.fc.bias
    assert torch.allclose(net(x), expected, atol=1e-5)


def test_disjoint_masks_give_the_remainder_to_the_last_block() -> None:
    masks = disjoint_masks(3, 8)
    assert masks.sum(1).tolist() == [2, 2, 4] and masks.sum(0).tolist() == [1] * 8


def test_checkpoint_round_trip_and_mismatch(tmp_path) -> None:
    config = TrainingConfig(model="csn-learned", widths=[4, 8], embeddingDimension=6, seed=3)
    model = CSNModel(config, 8, 1, 2)
    model.initialize(config)
    optimizer = torch.optim.Adam(model.parameters())
    outputs, masks = model([torch.rand(3, 1, 8, 8)])
    (outputs[0].sum() + masks.sum()).backward()
    optimizer.step()
    generator = SeededGenerator(11)
    checkpoint.save(str(tmp_path), config, model, optimizer, 1, generator, 0.75, is_best=True)
    tensors = load_file(str(tmp_path / "model.safetensors"))
    count = sum(p.numel() for p in model.parameters())
    assert tensors["optimizer.m"].shape == (count,) and tensors["step"].tolist() == [1]
    assert tensors["effective_masks"].shape == (2, 6) and (tensors["effective_masks"] >= 0).all()
    assert (tmp_path / "best.safetensors").read_bytes() == (tmp_path / "model.safetensors").read_bytes()

    again = CSNModel(config, 8, 1, 2)
    fresh = torch.optim.Adam(again.parameters())
    archive = checkpoint.open_archive(str(tmp_path / "model.safetensors"), again)
    step = checkpoint.restore_weights(again, archive)
    restored, best = checkpoint.restore_training_state(again, fresh, archive, step)
    assert step == 1 and best == pytest.approx(0.75) and restored.state == generator.state
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        if not name.endswith("num_batches_tracked"):  # csn keeps no such counter
            assert torch.equal(a, b), name
    for (name, p), (_, q) in zip(model.store_order(), again.store_order()):
        assert torch.equal(optimizer.state[p]["exp_avg_sq"], fresh.state[q]["exp_avg_sq"]), name
    # The flat moments end with the masks', as in csn's store.
    assert np.array_equal(tensors["optimizer.v"][-12:], optimizer.state[model.masks]["exp_avg_sq"].reshape(-1).numpy())

    wider = CSNModel(TrainingConfig(model="csn-learned", widths=[5, 8], embeddingDimension=6), 8, 1, 2)
    with pytest.raises(CSNTorchError, match=r"tensor 'net0.conv0.weight' has shape \[4, 1, 3, 3\], expected \[5, 1, 3, 3\]"):
        checkpoint.restore_weights(wider, checkpoint.open_archive(str(tmp_path / "model.safetensors"), wider))
    other = CSNModel(TrainingConfig(model="csn-fixed", widths=[4, 8], embeddingDimension=6), 8, 1, 2)
    with pytest.raises(CSNTorchError, match="holds a csn-learned model, but the config says csn-fixed"):
        checkpoint.open_archive(str(tmp_path / "model.safetensors"), other)


def test_config_json_is_csns() -> None:
    config = TrainingConfig(dataPath="/d.safetensors.gz")
    text = config.to_json()
    assert '"batchSize" : 64' in text and "widths" not in text and "backbone" not in text
    from csn_torch.config import parse

    assert parse(text.encode(), "c.json") == config
    with pytest.raises(CSNTorchError, match="'seed' is missing"):
        parse(text.replace('"seed"', '"sed"').encode(), "c.json")
    with pytest.raises(CSNTorchError, match="the batch size must be between 1 and 65536 triplets, not 0"):
        parse(text.replace('"batchSize" : 64', '"batchSize" : 0').encode(), "c.json")


def test_cosine_schedule_is_csns() -> None:
    config = TrainingConfig(steps=4, learningRate=1e-3)
    assert config.learning_rate(0) == pytest.approx(1e-3)
    assert config.learning_rate(2) == pytest.approx(5e-4)
    assert config.learning_rate(4) == 0
    assert math.isclose(config.learning_rate(1), float(np.float32(1e-3) * np.float32(0.5 * (1 + math.cos(math.pi / 4)))))
