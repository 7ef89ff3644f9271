-- The drawn signature: the strokes a partner drew with the mouse beside the typed name, kept with
-- the signature as JSON ([[[x, y], ...], ...] in the signing pad's cells). It is the person's mark;
-- the typed name is still what makes the signature valid.
ALTER TABLE signatures ADD COLUMN mark TEXT;
