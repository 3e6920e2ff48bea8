"""The directory in the formats the field already speaks: Meeting Guide JSON, HSDS 3.0, iCalendar."""
