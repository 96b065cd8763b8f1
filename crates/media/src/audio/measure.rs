//! How much of what was sent a recording kept: normalised correlation, the best lag,
//! and the segment-by-segment quality gate the call tests use (see `docs/media.md`,
//! "What the tests measured"). Shared by this crate's tests and the end-to-end call
//! tests, so one metric judges every path.

/// Samples per 20 ms frame at 48 kHz.
const FRAME: usize = 960;

/// The inner product of two equal-length slices.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum()
}

/// Normalised correlation of two equal-length slices (1 = identical shape).
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let denominator = (dot(a, a) * dot(b, b)).sqrt();
    if denominator == 0.0 { 0.0 } else { dot(a, b) / denominator }
}

/// The delay of `recorded` against `reference` (in samples, 0..max_lag) at which they
/// correlate best: a coarse search at 1/4 rate, then a fine one around it.
pub fn find_lag(reference: &[f32], recorded: &[f32], max_lag: usize) -> usize {
    let window = reference.len().min(recorded.len().saturating_sub(max_lag));
    let coarse = |lag: usize| -> f64 {
        (0..window).step_by(4).map(|i| f64::from(reference[i]) * f64::from(recorded[i + lag])).sum()
    };
    let best_coarse = (0..max_lag).step_by(4).max_by(|&x, &y| coarse(x).total_cmp(&coarse(y))).unwrap_or(0);
    let fine = |lag: usize| dot(&reference[..window], &recorded[lag..lag + window]);
    (best_coarse.saturating_sub(8)..(best_coarse + 8).min(max_lag))
        .max_by(|&x, &y| fine(x).total_cmp(&fine(y)))
        .unwrap_or(0)
}

/// Quality of a received recording against what was sent, per 20 ms segment.
#[derive(Debug, Clone, Copy)]
pub struct Quality {
    /// Mean normalised correlation over the segments with speech in them.
    pub mean_correlation: f64,
    /// Fraction of those segments whose correlation is at least 0.7 ("usable").
    pub usable: f64,
    pub segments: usize,
}

/// Segment-by-segment aligned correlation. The jitter buffer changes the delay only by
/// whole frames (a concealed frame inserted while waiting for a late packet, a frame
/// dropped to shrink), so each 20 ms segment with speech is compared with the recording
/// at `start_lag` plus k frames (k from -4 to 12), and one consistent path through those
/// lags is chosen for the whole recording (dynamic programming: the sum of correlations,
/// minus 0.3 for every frame the delay changes). A segment cannot pick a lag of its own:
/// concealed audio, which repeats the last pitch periods, would sometimes match a wrong
/// lag by chance and flatter the result. At a wrong lag this voice correlates ≈ 0 (its
/// pitch glides), so a segment only scores where the right audio is at the right time.
pub fn quality(reference: &[f32], recorded: &[f32], start_lag: usize, skip_seconds: f64) -> Quality {
    const LAGS: std::ops::RangeInclusive<i64> = -4..=12;
    const STEP_COST: f64 = 0.3;
    let first = (skip_seconds * f64::from(super::SAMPLE_RATE)) as usize / FRAME;
    let mut table: Vec<Vec<f64>> = Vec::new();
    for segment in first..reference.len() / FRAME {
        let sent = &reference[segment * FRAME..(segment + 1) * FRAME];
        if dot(sent, sent) / (FRAME as f64) < 0.02f64.powi(2) {
            continue; // a pause or a syllable's edge: nothing to judge
        }
        let row: Vec<f64> = LAGS
            .map(|k| {
                let from = segment as i64 * FRAME as i64 + start_lag as i64 + k * FRAME as i64;
                usize::try_from(from)
                    .ok()
                    .and_then(|from| recorded.get(from..from + FRAME))
                    .map_or(-1.0, |got| correlation(sent, got))
            })
            .collect();
        if row.iter().all(|&c| c == -1.0) {
            break; // past the end of the recording
        }
        table.push(row);
    }
    let width = LAGS.count();
    let mut best: Vec<f64> = table.first().cloned().unwrap_or_default();
    let mut from: Vec<Vec<usize>> = Vec::new();
    for row in table.iter().skip(1) {
        let mut next = vec![0.0; width];
        let mut back = vec![0; width];
        for k in 0..width {
            let (origin, score) = (0..width)
                .map(|j| (j, best[j] - STEP_COST * (j as f64 - k as f64).abs()))
                .fold((k, f64::NEG_INFINITY), |b, c| if c.1 > b.1 { c } else { b });
            next[k] = score + row[k];
            back[k] = origin;
        }
        best = next;
        from.push(back);
    }
    let mut k = (0..width).max_by(|&x, &y| best[x].total_cmp(&best[y])).unwrap_or(0);
    let mut path = vec![k];
    for back in from.iter().rev() {
        k = back[k];
        path.push(k);
    }
    path.reverse();
    let scores: Vec<f64> = table.iter().zip(&path).map(|(row, &k)| row[k]).collect();
    let usable = scores.iter().filter(|&&c| c >= 0.7).count();
    Quality {
        mean_correlation: scores.iter().sum::<f64>() / scores.len() as f64,
        usable: usable as f64 / scores.len() as f64,
        segments: scores.len(),
    }
}
