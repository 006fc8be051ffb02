#!/usr/bin/env bash
# Writes the malformed mixture files the `widemax diffusion` CLI tests feed to widemax into DIR.
set -eu
dir=$1
mkdir -p "$dir"
printf '{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1]]' >"$dir/malformed.json"
printf '{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1]], "covariances": [[[1, 0], [0, 1]], [[1, 2], [2, 1]]]}\n' >"$dir/not_pd.json"
printf '{"weights": [0.5, 0.4], "means": [[0, 0], [1, 1]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}\n' >"$dir/weights.json"
printf '{"weights": [1], "means": [[0, 0]]}\n' >"$dir/no_covariances.json"
