"""A study's analysis: claims and their verdict rules, measurements from the arms' results,
the headline figure and the study report (``python -m evaluation.study out=STUDY_DIR``)."""
