/** The what-if sliders' ranges: 0 to four times the preset's value. */

/** Largest slider value: four times the preset's, at least 4. */
export const sliderMax = (presetValue: number) => Math.max(4, presetValue * 4);

/** Integer steps for big constants; binary fractions (exact in doubles) for the small ones. */
export const sliderStep = (presetValue: number) => (presetValue >= 8 ? 1 : 0.125);
