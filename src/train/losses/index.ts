export { tasbLoss, type TasbLossInputs, type TasbLoss } from './tasb.js';
export { gtrLoss, type GtrLossInputs, type GtrLoss } from './gtr.js';
export { duplicateMasks, type BatchIds } from './masks.js';
