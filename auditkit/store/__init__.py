"""The result store: the run directory (its one reader and writer, its typed manifest and
results schema) and the caches that make reruns free (outcomes and replies, judgements)."""
from auditkit.store.cache import ResultCache
from auditkit.store.collect import collect_results
from auditkit.store.judgements import JudgementCache, reply_key
from auditkit.store.manifest import (
                                     FamilyRef,
                                     GroupTiming,
                                     ModelEntry,
                                     ProbeEntry,
                                     ProbeJudge,
                                     RunManifest,
                                     Scoring,
                                     Timings,
                                     load_manifest,
                                     manifest_json,
)
from auditkit.store.run_dir import (
                                     Run,
                                     manifest_path,
                                     read_run,
                                     results_path,
                                     write_manifest,
                                     write_results,
                                     write_run,
)
from auditkit.store.schema import (
                                     OUTCOME_COLUMNS,
                                     RESULT_COLUMNS,
                                     Outcome,
                                     ResultKey,
                                     ScoringKey,
                                     results_frame,
)

__all__ = ["ResultCache", "JudgementCache", "reply_key", "collect_results", "FamilyRef",
           "GroupTiming", "ModelEntry", "ProbeEntry", "ProbeJudge", "RunManifest", "Scoring",
           "Timings", "load_manifest", "manifest_json", "Run", "manifest_path", "read_run",
           "results_path", "write_manifest", "write_results", "write_run", "OUTCOME_COLUMNS",
           "RESULT_COLUMNS", "Outcome", "ResultKey", "ScoringKey", "results_frame"]
