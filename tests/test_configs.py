"""Every config file composes, and typos or wrong types fail at start-up naming the key."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError, ValidationError

import curation.config  # noqa: F401  (each import registers its stage's schema)
import evaluation.config  # noqa: F401
import evaluation.report.config  # noqa: F401
import evaluation.study.config  # noqa: F401
import evaluation.weights.config  # noqa: F401
import lessmore.pipeline  # noqa: F401
import lessmore.study.facts  # noqa: F401
import lessmore.study.fitting  # noqa: F401
import lessmore.study.references  # noqa: F401
import lessmore.study.spec  # noqa: F401
import training.config  # noqa: F401
from curation.core.config import CONF_DIR, compose_config

REQUIRED = {
    "curate": ["input=x.jsonl", "out=o"],
    "train": ["data=d", "out=o"],
    "evaluate": ["out=o"],
    "report": ["results=[r]", "out=o"],
    "pipeline": ["out=o"],
    "weights": ["run=r", "out=o"],
    "study": ["study=intruders", "out=o"],
    "study_report": ["out=o"],
    "facts": ["input=i", "out=o"],
    "references": ["input=i", "out=o"],
    "fitting": ["run=r", "out=o"],
}
PRIMARY = sorted(p.stem for p in CONF_DIR.glob("*.yaml"))
# conf/accelerate/ holds `accelerate launch --config_file` files, not a Hydra group: Hydra never
# composes them (tests/training/test_launch.py checks them); conf/hydra/ holds the Hydra settings
# every stage shares, no option of a stage (checked below)
NOT_GROUPS = {"accelerate", "hydra"}
GROUPS = sorted((p.parent.name, p.stem) for p in CONF_DIR.glob("*/*.yaml")
                if p.parent.name not in NOT_GROUPS)
# which primary config uses each group
GROUP_USER = {"model": "curate", "probe": "curate", "filters": "curate", "score": "curate",
              "memorization": "curate", "select": "curate", "trainer": "train", "peft": "train",
              "suite": "evaluate", "experiment": "curate", "study": "study"}

GROUP_PACKAGE = {"peft": "lora"}  # conf/peft/*.yaml fill `lora` (# @package lora)


def test_every_primary_config_is_known():
    assert set(PRIMARY) == set(REQUIRED), "a new stage config needs an entry in REQUIRED"


@pytest.mark.parametrize("name", PRIMARY)
def test_primary_config_composes(name):
    cfg = compose_config(name, REQUIRED[name])
    assert cfg.out == "o"


@pytest.mark.parametrize("name", PRIMARY)
def test_every_stage_takes_the_shared_hydra_settings(name):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        hydra = compose(config_name=name, overrides=REQUIRED[name], return_hydra_config=True).hydra
    assert (hydra.run.dir, hydra.output_subdir, hydra.job.chdir) == (".", None, False)
    assert hydra.job_logging.root.handlers == ["console"]  # stdout, no log file
    assert hydra.hydra_logging.root.level == "ERROR"  # Hydra's own logging off


@pytest.mark.parametrize("group, option", GROUPS, ids=lambda x: str(x))
def test_every_group_option_composes(group, option):
    user = GROUP_USER[group]
    required = [o for o in REQUIRED[user] if not o.startswith(f"{group}=")]
    cfg = compose_config(user, [*required, f"{group}={option}"])
    if group == "experiment":  # @package _global_: it names the selection preset it sets
        assert cfg.select.name == option
        return
    node = cfg[GROUP_PACKAGE.get(group, group)]
    assert node  # the option filled its node
    if "name" in node:
        assert node.name == option


@pytest.mark.parametrize("name", PRIMARY)
def test_unknown_key_fails_naming_it(name):
    with pytest.raises((ConfigCompositionException, ConfigKeyError)) as err:
        compose_config(name, [*REQUIRED[name], "no_such_key=1"])
    assert "no_such_key" in str(err.value) + str(err.value.__cause__)


def test_wrong_type_fails_naming_the_key():
    with pytest.raises((ConfigCompositionException, ValidationError)) as err:
        compose_config("curate", [*REQUIRED["curate"], "budget=lots"])
    assert "budget" in str(err.value) + str(err.value.__cause__)


def test_curation_and_training_name_the_over_length_policy_alike():
    for stage in ("curate", "train"):
        cfg = compose_config(stage, [*REQUIRED[stage], "over_length=error"])
        assert cfg.over_length == "error"
        with pytest.raises((ConfigCompositionException, ConfigKeyError)):  # the old curation name
            compose_config(stage, [*REQUIRED[stage], "overlong=drop"])


def test_model_path_points_any_model_config_elsewhere():
    cfg = compose_config("curate", [*REQUIRED["curate"], "model=tiny", "model.path=/some/dir"])
    assert cfg.model.name == "tiny" and cfg.model.path == "/some/dir"
    assert cfg.model.trust_remote_code is False


def test_every_yaml_starts_with_a_comment():
    for path in sorted(Path(CONF_DIR).rglob("*.yaml")):
        assert path.read_text().startswith("#"), f"{path} should start with how it is used"
