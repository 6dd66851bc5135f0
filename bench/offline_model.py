"""The offline model alone: time to understand one message and answer it with a tool call.

Every first message of the scenario and held-out sets goes through `OfflineChatModel`
(classification, slots, wording) with every tool bound, as an hr user would have them:
no database, no agent, no tools run. The aim is a p95 under 60 ms; the figure is also
given as a ratio of one embedding of the same message, the floor the classifier builds on.

    python bench/offline_model.py [--rounds 3] [--quick] [--json out.json]

--quick: one round over every 12th message.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _common import Result, percentile, quick_flag, write_results
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.eval import DEFAULT_SCENARIOS, HELD_OUT, load_scenarios
from assistant.offline import OfflineChatModel, classifier
from knowledge.embeddings import get_embedder
from tools.registry import all_tools

AIM_P95_MS = 60.0
SYSTEM = (
    "Employer: Jua Kali Foods Ltd\nUser: Peter Otieno (hr)\nToday: 2026-11-23 (Monday)\n"
    "Timezone: Africa/Nairobi\nLanguage: en\n"
)


def messages() -> list[str]:
    said = []
    for source in (DEFAULT_SCENARIOS, HELD_OUT):
        for scenario in load_scenarios(source):
            first = scenario["turns"][0].get("say")
            if isinstance(first, str) and first.strip():
                said.append(first)
    return said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=None, help="3; 1 with --quick")
    parser.add_argument("--json", type=Path)
    quick_flag(parser, "1 round over every 12th message")
    options = parser.parse_args()
    if options.rounds is None:
        options.rounds = 1 if options.quick else 3

    tools = [
        {
            "type": "function",
            "function": {
                "name": spec.name,
                "description": spec.description,
                "parameters": spec.args_model.model_json_schema(),
            },
        }
        for spec in all_tools()
    ]
    model = OfflineChatModel().bind_tools(tools)
    embedder = get_embedder()
    said = messages()[:: 12 if options.quick else 1]
    model.invoke([SystemMessage(SYSTEM), HumanMessage("warm up")])  # load the classifier once
    embedder.embed_query("warm up")

    model_ms: list[float] = []
    embed_ms: list[float] = []
    for _ in range(options.rounds):
        for text in said:
            classifier.forget()  # every message new, as in real use (no cached embedding)
            started = time.perf_counter()
            model.invoke([SystemMessage(SYSTEM), HumanMessage(text)])
            model_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            embedder.embed_query(text)
            embed_ms.append((time.perf_counter() - started) * 1000)

    p50, p95 = statistics.median(model_ms), percentile(model_ms, 95)
    floor = statistics.median(embed_ms)
    result = {
        "messages": len(said),
        "rounds": options.rounds,
        "model_p50_ms": round(p50, 1),
        "model_p95_ms": round(p95, 1),
        "embedding_p50_ms": round(floor, 1),
        "p50_over_embedding": round(p50 / floor, 2),
        "p95_over_aim": round(p95 / AIM_P95_MS, 2),
    }
    print(f"{len(said)} messages x {options.rounds} rounds")
    print(f"offline model  p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (aim p95 < {AIM_P95_MS:.0f} ms)")
    print(f"one embedding  p50 {floor:6.1f} ms   model p50 = {p50 / floor:.2f}x an embedding")
    print(f"p95 / aim = {p95 / AIM_P95_MS:.2f}  ({'met' if p95 < AIM_P95_MS else 'NOT met'})")
    if options.json:
        options.json.write_text(json.dumps(result, indent=2))
    sample = f"{len(said)} messages × {options.rounds}, no cached embedding"
    write_results(
        "offline_model",
        [
            Result(
                "one message understood and answered, p95",
                round(p95, 2),
                "ms",
                peer="aim",
                peer_value=AIM_P95_MS,
                limit=True,
                aim_below=1,
                note=sample,
            ),
            Result(
                "one message understood and answered, p50",
                round(p50, 2),
                "ms",
                peer="one embedding of the same message, p50",
                peer_value=round(floor, 2),
            ),
        ],
        quick=options.quick,
        params={"rounds": options.rounds, "messages": len(said)},
    )


if __name__ == "__main__":
    main()
