# Summarizes JMH JSON results (-rf json) of PreWriteBenchmark as the rows of the table in
# docs/benchmarks.md: median and min-max of the per-iteration scores over all forks, and records
# per fdatasync as total records / total fdatasyncs plus the per-iteration min-max.
# Usage: jq -r -f benchmarks/summary.jq /tmp/modtrack-jmh/*.json
def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def fmt: if type != "number" then "n/a" elif . >= 100 then round | tostring else (. * 100 | round) / 100 | tostring end;
.[]
| (.primaryMetric.rawData | flatten) as $ops
| (.secondaryMetrics.records.rawData // [] | flatten) as $rec
| (.secondaryMetrics.fdatasyncs.rawData // [] | flatten) as $syn
| ([range(0; $rec | length) | select($syn[.] > 0) | $rec[.] / $syn[.]]) as $ratios
| [ (.benchmark | sub(".*\\."; "")), .params.durability, (.threads | tostring),
    ($ops | median | fmt), "\($ops | min | fmt)–\($ops | max | fmt)",
    "±\(.primaryMetric.scoreError | fmt)",
    (if ($syn | add // 0) > 0 then (($rec | add) / ($syn | add) | fmt) + " (\($ratios | min | fmt)–\($ratios | max | fmt))" else "no fdatasync" end),
    ($ops | length | tostring) ]
| "| " + join(" | ") + " |"
