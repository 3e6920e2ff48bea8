"""Every change to the directory, one function and one transaction each: `imports` (feeds read
into meetings, locations and their sources) and `changes` (reported changes, editors' reviews
and MOUD stances)."""
