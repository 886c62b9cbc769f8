# Statistics for the benchmark scripts' jq programs: include "stats"; with jq -L scripts/lib.

# The median of an array of numbers (the mean of the middle two for an even count).
def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;

# A number as text with $n decimals (fixed(2): 0.5 → "0.50").
def fixed($n):
  (. * pow(10; $n) | round) as $i | (if $i < 0 then "-" else "" end) as $sign | ($i | fabs | tostring) as $d
  | (if ($d | length) <= $n then ("0" * ($n + 1 - ($d | length))) + $d else $d end) as $p
  | if $n == 0 then $sign + $p else $sign + $p[:-$n] + "." + $p[-$n:] end;

# A number rounded to a whole one, its thousands grouped with commas (12345.6 → "12,346").
def grouped:
  def group: if length <= 3 then . else (.[:-3] | group) + "," + .[-3:] end;
  (round | tostring) as $s | if $s | startswith("-") then "-" + ($s[1:] | group) else $s | group end;
