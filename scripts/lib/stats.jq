# Statistics for the benchmark scripts' jq programs: include "stats"; with jq -L scripts/lib.

# The median of an array of numbers (the mean of the middle two for an even count).
def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
