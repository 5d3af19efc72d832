"""Pages people read: the gate report, the model card, and the pieces they share (`page`)."""
