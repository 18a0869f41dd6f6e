public enum ArrivalsPlaceholder {}
