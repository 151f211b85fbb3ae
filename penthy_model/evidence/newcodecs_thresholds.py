"""Proposed decision thresholds for the issue-26 grids (to move into verdict.Policy).

A codec is named when its detector's z reaches its threshold (layer2: the subband grid,
named by ``layer2.identify``: "musepack" where the run steps follow Musepack's scalefactor
grid more coherently than Layer II's, else "mp2"; no threshold in that choice).

Rule (written in /work/data/e26/rule.md before any figure was seen): on the selection set,
G = the largest z over every genuine file (plain, fluidsynth, sparse, steep low-passes at
15-21 kHz, 32 kHz-sourced, 96 kHz/24-bit) and every decode of the other codecs (the other
new ones, MP3, AAC, Vorbis); threshold = max(6.0, 1.5 x G).
"""

THRESHOLDS = {  # bench/codec_grids.py thresholds on the selection set (G in the comment)
    "ac3": 6.015,  # G = 4.01 (a 44.1 kHz AAC-256 decode)
    "layer2": 6.0,  # G = 2.66 (floor)
    "opus": 6.0,  # G = -0.15 (floor; the Opus z is in units of a whole e-fold, see opus.notch_z)
    "wma": 6.945,  # G = 4.63 (after the confirmation grew to 12 windows, see rule.md addendum 3)
}
# layer2.NAME_Z (6.0) is where naming starts; it must not exceed THRESHOLDS["layer2"].
